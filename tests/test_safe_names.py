"""Safe file names (io/names.py): Windows reserved names, forbidden characters, traversal,
byte limits, uniqueness as the file systems compare names."""

import os
import unicodedata

import pytest

from custledger.io.names import MAX_BYTES, RESERVED, safe_name, unique_names


def _is_safe(name: str, limit: int = MAX_BYTES) -> bool:
    return (name not in ("", ".", "..") and ".." not in name and "/" not in name and "\\" not in name
            and not any(ch in name for ch in '<>:"|?*') and not any(ord(ch) < 32 for ch in name)
            and not name.endswith((".", " ")) and not name.startswith((".", " "))
            and name.split(".", 1)[0].rstrip(" ").upper() not in RESERVED
            and len(name.encode("utf-8")) <= limit)


@pytest.mark.parametrize("reserved", ["CON", "con", "Prn", "AUX", "NUL", "COM1", "com9", "LPT1", "lpt9", "COM¹",
                                      "CONIN$", "CON.txt", "nul.tar.gz", "AUX ", "CON .x"])
def test_windows_reserved_names_are_prefixed(reserved):
    name = safe_name(reserved, ".xlsx")
    assert name.startswith("_") and _is_safe(name)
    assert name.endswith(".xlsx")


def test_not_reserved_when_only_similar():
    assert safe_name("CONSOLE") == "CONSOLE"
    assert safe_name("COM10") == "COM10"
    assert safe_name("Connor.xlsx") == "Connor.xlsx"


@pytest.mark.parametrize("text", ["../../x", "..\\..\\windows\\system32", "/etc/passwd", "a/../../b", "..", ".",
                                  "...", " .. ", "C:\\temp\\x", "~/../x"])
def test_path_traversal_is_impossible(text, tmp_path):
    name = safe_name(text, ".xlsx")
    assert _is_safe(name), name
    assert os.path.dirname(name) == ""
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_forbidden_and_control_characters():
    assert safe_name("客户/名称:*?") == "客户_名称_"
    assert safe_name('a<b>c:"d|e?f*g') == "a_b_c_d_e_f_g"
    assert safe_name("a\x00b\nc\td\x7fe") == "a_b_c_d_e"
    assert safe_name("  trailing dots... ") == "trailing dots"
    assert safe_name(".hidden") == "hidden"
    assert safe_name("") == "_" and safe_name(None) == "_" and safe_name("///") == "_"


def test_long_names_cut_in_bytes_at_character_boundaries():
    for text in ("a" * 400, "张" * 300, "𠀀" * 200, "é" * 300):
        name = safe_name(text, ".xlsx")
        assert len(name.encode("utf-8")) <= MAX_BYTES
        assert name.endswith(".xlsx")
        name.encode("utf-8").decode("utf-8")  # no broken character
        assert _is_safe(name)
    assert len(safe_name("x" * 1000, max_bytes=255).encode()) == 255


def test_nfc_so_that_macos_and_windows_agree():
    decomposed = unicodedata.normalize("NFD", "Café Ünïcode")
    assert safe_name(decomposed) == unicodedata.normalize("NFC", "Café Ünïcode")


def test_duplicates_are_made_unique_case_insensitively():
    names = unique_names(["A/1", "A:1", "a_1", "b", "B", "b"], ".xlsx")
    assert names == ["A_1.xlsx", "A_1 (2).xlsx", "a_1 (3).xlsx", "b.xlsx", "B (2).xlsx", "b (3).xlsx"]
    assert len({n.casefold() for n in names}) == len(names)
    long = unique_names(["张" * 200, "张" * 200], ".xlsx")
    assert long[0] != long[1] and all(len(n.encode()) <= MAX_BYTES for n in long)
    assert long[1].endswith(" (2).xlsx")


def test_files_can_be_created(tmp_path):
    texts = ["CON", "../../x", "客户/名称:*?", "a" * 300, "李四 ", "李四", "COM1.txt", "\t", "x" * 50 + "."]
    for name in unique_names(texts, ".xlsx"):
        (tmp_path / name).write_bytes(b"ok")
    assert len(list(tmp_path.iterdir())) == len(texts)


def test_bad_suffix_refused():
    with pytest.raises(ValueError):
        safe_name("x", "/../.xlsx")
