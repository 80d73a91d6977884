"""dynamap.models"""
