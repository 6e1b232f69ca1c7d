require ["duplicate", "fileinto"];
if duplicate {
  fileinto "Dup";
}
if duplicate :header "subject" :handle "subject" {
  fileinto "Dup-Subject";
}
