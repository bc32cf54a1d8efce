"""Import formats: decoding uploaded bytes safely, and readers that turn files into plain records."""
