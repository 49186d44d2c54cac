"""Where the files that ship beside the code are found, in a source tree and when installed.

``templates/`` sits at the top of the project (the layout is fixed), and the wheel carries it
inside the package as ``distributor/templates`` (see ``setup.py``). An installed copy looks in
the package; a source checkout or an editable install finds the top-level folder.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def find_templates_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """The templates folder: inside the installed package if there, else the source tree's.

    When neither exists the installed location is returned, so a missing template names the
    folder where an installed copy should have it.
    """
    installed = package_dir / "templates"
    if installed.is_dir():
        return installed
    source_tree = package_dir.parent / "templates"
    if source_tree.is_dir():
        return source_tree
    return installed


TEMPLATES_DIR = find_templates_dir()
