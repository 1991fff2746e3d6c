"""The columns of the step 3 and 4 CSVs (the workbook shows the same)."""

CONFIRMATION_COLUMNS = ("source_id", "target_id", "status", "confidence", "rule", "depends_on", "missing", "incompatible")
PROPOSAL_COLUMNS = ("target_id", "question_number", "question_text", "status", "proposed_value", "proposed_text",
                    "fill_ins", "source_id", "source_value", "confidence", "flags")
VARIANCE_COLUMNS = ("source_id", "target_id", "confirmation", "relation", "variance_type", "impact", "rule",
                    "differences", "source_text", "target_text")
# the exception log's columns, in the analyst's order (merge.exception_log writes rows with these keys)
EXCEPTION_COLUMNS = ("ID", "Description", "Category", "Risk", "Owner", "Opened On", "Due Date", "Status",
                     "Resolution", "Resolution Date", "Evidence Link", "Reviewer Sign-off")
