"""Text analysis shared by the content rules: links, masking, phrase lists and detectors."""
