"""Ingestion: files -> Document -> Chunk -> vectors + BM25 -> index folder (one generation)."""
