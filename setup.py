"""Builds glasskernel._core with CMake (scikit-build-core is not packaged in Debian 12)."""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        root = Path(__file__).parent.resolve()
        out = Path(self.get_ext_fullpath(ext.name)).parent.resolve()
        build = root / "build" / "python"
        build.mkdir(parents=True, exist_ok=True)
        cfg = [
            "cmake", str(root), "-G", "Ninja",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={out}",
            "-DGK_TESTS=OFF", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        ]
        subprocess.check_call(cfg, cwd=build)
        jobs = os.environ.get("GK_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", ".", "--target", "_core", "-j", jobs], cwd=build)


setup(ext_modules=[CMakeExtension("glasskernel._core")], cmdclass={"build_ext": CMakeBuild})
