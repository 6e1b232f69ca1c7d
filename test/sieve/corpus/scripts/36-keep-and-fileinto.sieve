require ["fileinto", "copy"];
keep;
fileinto "INBOX";
fileinto :copy "Archive";
fileinto "Archive";
