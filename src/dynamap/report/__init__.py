"""dynamap.report"""
