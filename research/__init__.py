"""Experimental 3D, generative, video and multimodal methods of eccv20-zoo."""
