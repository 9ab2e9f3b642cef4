"""The release of ccsim: one place, so that any layer can name it without importing the
package root (which reaches every layer through its public API)."""

__version__ = "0.1.0"
