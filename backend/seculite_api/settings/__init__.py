"""Settings package: base (shared), local (make dev), production, test."""
