"""What runs foreign code or TeX: the compute child (python), TeX's sandbox (tex)."""
