"""Pure physical and economic models over SI floats and NumPy arrays.

One module per concern. No function here reads files, prints, or knows about
design files: inputs are numbers (or arrays of numbers) in SI units, outputs too.
"""

from __future__ import annotations

import numpy as np

#: A quantity in SI units: one value, or one value per design of a batch.
Array = float | np.ndarray
