"""The reviewer's full-screen desk (`intake-review desk`), built on Textual over the domain packages."""
