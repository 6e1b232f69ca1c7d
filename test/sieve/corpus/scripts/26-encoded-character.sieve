require ["encoded-character", "fileinto"];
if header :contains "subject" "${unicode:00FC}" {
  fileinto "${hex:55 6d 6c 61 75 74}";
}
fileinto "${hex:46 6F 6f}";
