"""workbench.exposure"""
