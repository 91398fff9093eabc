# SPDX-License-Identifier: BSD-2-Clause
"""Build-time only (`make wheel`): packs the self-contained gil-prof binary
into a binary-only wheel. Nothing here runs when the wheel is installed.

GIL_PROF_VERSION is the version; GIL_PROF_PLATFORM_TAG the manylinux tag the
binary's glibc symbol versions allow (packaging/elfcheck.py --manylinux-tag),
which auditwheel checks afterwards.
"""
import os

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
# distutils as setuptools provides it (after `import setuptools`).
from distutils.command.build_scripts import build_scripts  # noqa: E402


class BinaryOnlyWheel(bdist_wheel):
    """A platform wheel for any Python 3: the binary does not use Python."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        return "py3", "none", os.environ["GIL_PROF_PLATFORM_TAG"]


class CopyBinary(build_scripts):
    """The script is an ELF file: copied as it is (build_scripts would read
    it as Python source to rewrite its #! line)."""

    def copy_scripts(self):
        self.mkpath(self.build_dir)
        out = []
        for script in self.scripts:
            dest = os.path.join(self.build_dir, os.path.basename(script))
            self.copy_file(script, dest)
            os.chmod(dest, 0o755)
            out.append(dest)
        return out, out


setup(
    version=os.environ["GIL_PROF_VERSION"],
    cmdclass={"bdist_wheel": BinaryOnlyWheel, "build_scripts": CopyBinary},
    # Installed in the environment's bin/.
    scripts=["gil-prof"],
    data_files=[
        ("share/man/man1", ["gil-prof.1"]),
        ("share/bash-completion/completions", ["completion/gil-prof"]),
    ],
)
