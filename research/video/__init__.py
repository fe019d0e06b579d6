"""Video methods of the zoo's research tree: temporal detection, self-supervised video, audio-visual parsing, video object segmentation."""
