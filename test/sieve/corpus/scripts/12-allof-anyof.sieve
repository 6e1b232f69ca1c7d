require "fileinto";
if allof (header :contains "from" "example", not header :contains "subject" "report") {
  fileinto "A";
}
if anyof (size :over 100K, header :is "precedence" "bulk", false) {
  fileinto "B";
}
if allof (true, anyof (false, true)) {
  fileinto "C";
}
