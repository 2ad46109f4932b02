"""Presentation only: Rich tables, design comparison and the SVG elevation."""
