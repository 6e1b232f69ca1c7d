require ["date", "relational", "fileinto"];
if date :value "ge" "date" "date" "2026-11-26" {
  fileinto "Late-November";
}
if date :originalzone "date" "zone" "+0100" {
  fileinto "Zone-Plus-One";
}
if date :zone "+0000" "date" "hour" "09" {
  fileinto "Nine-UTC";
}
if date "date" "weekday" "0" {
  fileinto "Sunday";
}
if currentdate :value "ge" "date" "2020-01-01" {
  fileinto "Now";
}
