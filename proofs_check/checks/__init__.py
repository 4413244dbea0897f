"""Check modules: each registers its checks with ``proofs_check.registry.check`` and its report
figures with ``proofs_check.report.figure``. Every module in this package is imported by
``registry.load_all``."""
