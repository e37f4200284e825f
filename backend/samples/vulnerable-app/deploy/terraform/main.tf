# Sample Terraform with planted flaws (see README.md). Never apply it.
resource "aws_s3_bucket" "uploads" {
  bucket = "vulnerable-app-uploads"
}

resource "aws_s3_bucket_acl" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  acl    = "public-read"
}

resource "aws_security_group" "ssh" {
  name        = "ssh-from-anywhere"
  description = "SSH open to the world"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = false
}
