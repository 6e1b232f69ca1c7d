require ["reject", "fileinto"];
fileinto "A";
reject "too late";
