"""Bulk exchange: CSV imports and exports of commitments and assessments."""
