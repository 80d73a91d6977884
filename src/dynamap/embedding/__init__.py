"""dynamap.embedding"""
