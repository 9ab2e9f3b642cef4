"""The what-if page's engine (issue #31): a scenario's key inputs as a form, a variant read
from it, the base against the variant on common random numbers in a child process, and the
variant saved as a scenario file. The web page (``ccsim whatif``) is built on these."""

from ccsim.whatif.form import FormField, Variant, form_fields, variant
from ccsim.whatif.job import Comparison
from ccsim.whatif.save import save_variant

__all__ = ["Comparison", "FormField", "Variant", "form_fields", "save_variant", "variant"]
