"""dynamap.cli"""
