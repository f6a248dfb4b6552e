"""Report writers: the monthly report as an Excel workbook and as print-ready HTML."""
