"""Content modelling: the schema language, fields, content types, global fields, extensions, labels and metadata."""
