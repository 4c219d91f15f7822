"""workbench.incident"""
