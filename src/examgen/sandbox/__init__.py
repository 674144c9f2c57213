"""What runs foreign code or TeX: the compute child (python), TeX (tex), both in bubblewrap
(bubblewrap), and template expressions (jinja)."""
