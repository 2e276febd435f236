"""Generated sheets' column widths: measured over a whole sample at once, as text by text."""

import random


def test_column_widths_measured_at_once_are_the_per_text_widths():
    from custledger.render.sheets import _text_width, widest_text

    rng = random.Random(11)
    alphabet = ["a", "Z", "1", " ", "甲", "公", "Ｔ", "⺀", "⺁", "😀", "\ud800", "é", "\u3000"]
    for _ in range(200):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 8))]
        assert widest_text(texts) == max((_text_width(t) for t in texts), default=0), texts
