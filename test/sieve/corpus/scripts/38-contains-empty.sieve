require "fileinto";
if header :contains "subject" "" {
  fileinto "Has-Subject";
}
if header :matches "x-spam-score" "?" {
  fileinto "One-Digit";
}
if header :matches "x-spam-score" "??" {
  fileinto "Two-Digits";
}
