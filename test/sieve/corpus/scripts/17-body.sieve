require ["body", "fileinto"];
if body :contains "invoice" {
  fileinto "Invoices";
}
if body :content "text/html" :contains "<b>report</b>" {
  fileinto "Html-Report";
}
if body :text :contains "Schöne" {
  fileinto "Decoded";
}
if body :raw :contains "=C3=B6" {
  fileinto "Raw";
}
