"""Build of the optional C batch engine (prabayar.sts._batch); everything else is in pyproject.toml.

``optional=True``: without a C compiler (or Python headers) the install still succeeds and
prabayar.sts.batch falls back to looping the per-token engine, saying so in the log.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "prabayar.sts._batch",
            ["src/prabayar/sts/_batch.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
