"""dynamap.training"""
