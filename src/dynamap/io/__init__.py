"""dynamap.io"""
