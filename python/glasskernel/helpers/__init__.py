"""drgn-style helpers named after the kernel macros they mirror (glasskernel.helpers.<header>)."""
