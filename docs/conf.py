"""Sphinx configuration of unioncat's documentation (Markdown pages read by MyST).

Build: ``make docs`` (``sphinx-build -W --keep-going -b html docs build/docs``). Warnings are errors,
so a link to a page or heading that does not exist fails the build.
"""

project = "unioncat"
author = "the unioncat maintainers"
copyright = "the unioncat maintainers"
release = "0.1.0"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Headings get anchors, so that [text](page.md#a-heading) is checked like a link to a page.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]
# A link that resolves to nothing is a warning (and so an error), never a silent dead link.
nitpicky = True

html_theme = "alabaster"
html_title = "unioncat"
html_theme_options = {
    "description": "A union catalogue for a consortium of university libraries",
    # wide enough for the command examples, which are kept on one line each where they can be
    "page_width": "1200px",
    "body_max_width": "none",
}
