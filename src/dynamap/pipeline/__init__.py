"""dynamap.pipeline"""
