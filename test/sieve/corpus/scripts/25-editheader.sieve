require ["editheader", "fileinto"];
addheader "X-Sieve" "seen";
deleteheader "subject";
if allof (exists "x-sieve", not exists "subject") {
  fileinto "Edited";
}
deleteheader :contains "received" "laptop";
if header :count "eq" :comparator "i;ascii-numeric" "received" "1" {
  fileinto "One-Received";
}
