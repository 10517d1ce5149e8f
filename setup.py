"""Lists the wheel's packages: every desktop_registry package, and each folder of the top-level
resources/ (mapped to desktop_registry/resources/ in pyproject.toml) as a data-only package.

Everything else about the build is in pyproject.toml; never moves or copies resources/ itself.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

RESOURCES = Path(__file__).resolve().parent / "resources"

setup(
    packages=[
        *find_namespace_packages(include=["desktop_registry", "desktop_registry.*"]),
        *(
            ".".join(("desktop_registry", "resources", *folder.relative_to(RESOURCES).parts))
            for folder in (RESOURCES, *sorted(RESOURCES.rglob("*")))
            if folder.is_dir()
        ),
    ]
)
