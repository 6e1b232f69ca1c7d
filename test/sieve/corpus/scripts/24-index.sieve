require ["index", "date", "fileinto"];
if header :index 2 :contains "received" "laptop" {
  fileinto "Second-Hop";
}
if header :index 1 :last :contains "received" "laptop" {
  fileinto "Last-Hop";
}
if date :index 1 "received" "year" "2026" {
  fileinto "Received-2026";
}
