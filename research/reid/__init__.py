"""Person re-identification methods (research: training schemes still evolving, e.g. ISP's offline clustering)."""
