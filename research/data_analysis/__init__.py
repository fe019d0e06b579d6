"""Dataset analysis tools (auditing datasets rather than training models): REVISE."""
