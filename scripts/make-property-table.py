"""Write src/rackwright/models/data/rho_cp.npz: ρ·c_p of each coolant on the thermal model's grid, from CoolProp.

Run after upgrading CoolProp; tests/test_models.py fails while the shipped table differs from CoolProp's values.
"""

import numpy as np

from rackwright.models.thermal import COOLPROP_FLUIDS, PROPERTY_TABLE, tabulate_rho_cp

PROPERTY_TABLE.parent.mkdir(exist_ok=True)
np.savez_compressed(PROPERTY_TABLE, **{fluid: tabulate_rho_cp(fluid) for fluid in COOLPROP_FLUIDS})
print(f"wrote {PROPERTY_TABLE}")
