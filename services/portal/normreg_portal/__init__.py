"""The public's portal: server-rendered pages in Chinese over SearchService and CreateComment."""
