require "fileinto";
if header :contains "subject" "Grüße aus Köln" {
  fileinto "Koeln";
}
if address :is "from" "joerg@example.de" {
  fileinto "Joerg";
}
