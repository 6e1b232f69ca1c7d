require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" {
  fileinto "Junk";
} elsif header :value "lt" :comparator "i;ascii-numeric" "x-spam-score" "3" {
  fileinto "Clean";
}
if header :value "gt" "subject" "N" {
  fileinto "After-N";
}
