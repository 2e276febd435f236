"""JSON Schemas of the input sheets and labels of the generated ones."""
