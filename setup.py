"""Build hook: the top-level ``templates/`` folder ships inside the wheel as
``distributor/templates`` (``distributor.resources`` finds it in either place).

Everything else about the build is declared in pyproject.toml. An editable install keeps
reading ``templates/`` in place, so nothing is copied for it.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TEMPLATES = Path("templates")


class BuildPyWithTemplates(build_py):
    """``build_py`` that also copies ``templates/`` into the built ``distributor`` package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for source in sorted(TEMPLATES.rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                target = Path(self.build_lib) / "distributor" / source
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithTemplates})
