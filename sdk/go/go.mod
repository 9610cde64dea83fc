module github.com/asa-project/asa/sdk/go

go 1.19
