"""Text checks shared by the web app and the reviewer's tools."""
